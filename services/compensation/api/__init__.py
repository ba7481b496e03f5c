"""The compensation service's HTTP API: vouchers, approvals, monthly batches, strikes."""
