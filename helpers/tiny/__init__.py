"""Tiny mode: small stand-ins for the SDXL parts, so the lessons run offline on a CPU."""
