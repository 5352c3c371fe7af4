"""The Wi-Fi subsystem: the radio environment (environment.py), WPA2 key derivation and the 4-way handshake
(wpa.py), EAP-TLS (eaptls.py) and the host-interface model at 0x60000000 with the connection state machine
(n9_hif.py). docs/wifi.md describes them."""
from .environment import AccessPoint, EnvironmentError_, HostEntry, Network, RadioEnvironment
from .n9_hif import WifiHif
