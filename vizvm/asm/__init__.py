"""Assembler back ends for guest sources, and disassembly for display."""
