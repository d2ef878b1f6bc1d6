"""Key-value and persona memory, async (the source the sync twins are generated from)."""
