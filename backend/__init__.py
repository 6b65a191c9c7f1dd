"""Inferchain gateway: FastAPI service linking wallets to jobs."""
