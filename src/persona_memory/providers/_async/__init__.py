"""External providers (async source of the generated sync twin)."""
