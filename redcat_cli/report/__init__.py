"""The one-page HTML report and its charts."""
