"""peripherals"""
