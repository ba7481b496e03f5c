"""Compensation (시정 및 보상조치) rules: which causes a charter remedies, how much, and how lateness is counted."""
