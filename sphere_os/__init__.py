"""The emulated Azure Sphere OS: what runs above the chip on the A7 side: the app launcher (apps.py) on the Linux
personality (mt3620.engine.linux), and the OS agent that attests and takes updates from the security service
(agent.py). The app manager, security monitor and Applibs services land here."""
