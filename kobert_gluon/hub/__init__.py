"""Files that come from elsewhere: the artifact store (manifest of published files with checksums, mirror,
cache, verified downloads) and the catalogue of published models (which names exist and where their files are).
"""
