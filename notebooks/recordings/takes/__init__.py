"""The written-out takes behind ``notebooks/recordings/*.jsonl``: one module per notebook."""
