"""vizvm: real x86 guests under several hypervisor techniques, side by side."""

__version__ = "0.1.0"
