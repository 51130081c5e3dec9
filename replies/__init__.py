"""Reply platforms: one module per network that can take a brand account's public reply. Each declares its
account schema, counts length the network's way, posts once, and finds its reply again after a crash."""
