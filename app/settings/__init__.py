"""Site-wide settings an administrator edits."""
