"""Model providers: what turns a validated generation input into media."""
