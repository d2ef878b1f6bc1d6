"""The backend contract (async source of the generated sync twin)."""
