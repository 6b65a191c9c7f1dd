"""Request and public schemas of the HTTP API, one module per resource."""
