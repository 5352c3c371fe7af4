"""The emulated Azure Sphere OS: what runs above the chip on the A7 side (today the OS agent that attests and
takes updates from the security service; the app manager, security monitor and Applibs services land here)."""
