"""Compensation: remedies (vouchers, apologies, retraining, referrals) under each charter's policy."""
