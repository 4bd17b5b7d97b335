"""Hashing, the file checker, the artifact cache and doit's state database."""
