"""The flag rules of rules.md: parameters, required deposit, evaluation and lifecycle."""
