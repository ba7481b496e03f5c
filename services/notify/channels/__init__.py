"""Delivery channels behind one interface: e-mail (SMTP), SMS (an HTTP gateway), the homepage inbox."""
