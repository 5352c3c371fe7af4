"""The ADC."""
