"""Adapters translate between the outside world and the pure core; they hold all parsing and rendering."""
