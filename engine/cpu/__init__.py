"""What every Unicorn core of the engine shares: the instruction-budget hook that counts retired instructions
per translation block (budget.py, with the native accelerator in native/block_budget.c) and register access
straight through libunicorn (fastregs.py). The IO cores (cortex_m) and the A7 (cortex_a) import it; it imports
nothing else of the project."""
