"""Self-contained HTML reports of a run or a sweep: inline CSS, JavaScript and SVG drawn by
nnrun, so the file opens in any browser without network access."""
