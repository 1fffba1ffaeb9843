"""What goes out each night (../shared/contracts/outputs.md)."""
