"""The strike counter: strikes by official, read from the findings topic, and the referral they raise."""
