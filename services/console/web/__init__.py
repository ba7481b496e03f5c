"""The console's web application: pages for officials, department heads, auditors and administrators."""
