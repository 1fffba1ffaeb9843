"""Landing: what a source said, untouched, with its hash and pull metadata."""
