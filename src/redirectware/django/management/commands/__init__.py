"""The commands: ``redirectware_suggest``."""
