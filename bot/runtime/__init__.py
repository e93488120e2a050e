"""How Storm runs beside its HTTP server: Socket Mode's connections and its health endpoint."""
