"""Azure Sphere image packages, image metadata and capability files (read, write, verify)."""
from .keys import Keystore, KeySigner, SdkTestSigner, Signer, TrustedKey, load_trusted_key, trust_key
from .metadata import Metadata, MetadataError
from .package import (ImagePackage, ImagePackageError, build_application, build_image, content_digest, derive_image_id,
                      load, parse)

__all__ = ["ImagePackage", "ImagePackageError", "Keystore", "KeySigner", "Metadata", "MetadataError",
           "SdkTestSigner", "Signer", "TrustedKey", "build_application", "build_image", "content_digest", "derive_image_id",
           "load", "load_trusted_key",
           "parse", "trust_key"]
