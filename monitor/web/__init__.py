"""The web inbox: the team's queue by deadline, search, labelling and the digest, in a browser."""
