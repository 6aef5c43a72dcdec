"""Chat: OpenAI-compatible turns, server-side sessions, token-metered credits."""
