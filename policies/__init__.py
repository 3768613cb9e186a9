"""Stock policy packs in YAML (installed as the package audit.policies); name them in a spec's
``policies:`` or with ``model-audit run --policy NAME``."""
