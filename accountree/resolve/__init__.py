"""Duplicate resolution: name/domain normalisation, splink record linkage, review queue, merges.

Service functions live in `accountree.resolve.service` (`resolve`, `candidates`, `decide`,
`merge`, `undo_merge`); see README.md in this folder.
"""
