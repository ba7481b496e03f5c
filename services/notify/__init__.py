"""Notify: Korean notices to applicants by SMS, e-mail and the homepage inbox."""
