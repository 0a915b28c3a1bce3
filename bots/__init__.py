"""Topic bots: their content (one folder each) and the code that builds and runs them."""
