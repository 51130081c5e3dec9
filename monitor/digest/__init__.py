"""The digest: daily figures per brand, the runner that sends them, and their text, HTML, chart and CSV forms."""
