"""File outputs people open: due lists, summaries and steward workbooks (xlsx and csv)."""
