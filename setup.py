"""Maps the project's top-level folders into the one `mt3620` import namespace.

engine/ -> mt3620.engine, peripherals/ -> mt3620.peripherals, sphere_os/ -> mt3620.sphere_os,
cloud/ -> mt3620.cloud, firmware/ -> mt3620.firmware (the toolchain that builds the C firmware beside it),
platforms/ -> mt3620.platforms (the .repl files ship as package data)."""
import os
from setuptools import setup

ROOTS = {"mt3620": "mt3620", "mt3620.engine": "engine", "mt3620.peripherals": "peripherals",
         "mt3620.sphere_os": "sphere_os", "mt3620.cloud": "cloud", "mt3620.firmware": "firmware",
         "mt3620.platforms": "platforms"}


def packages():
    found = []
    for pkg, folder in ROOTS.items():
        for here, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
            if "__init__.py" in files:
                rel = os.path.relpath(here, folder)
                found.append(pkg if rel == "." else pkg + "." + rel.replace(os.sep, "."))
    return sorted(found)


setup(
    packages=packages(),
    package_dir=ROOTS,
    package_data={"mt3620.platforms": ["*.repl", "**/*.repl"],
                  "": ["*.json", "*.c", "*.ld", "*.h", "*.ini", "*.mako", "*.cs", "*.board", "*.html", "*.js", "*.css"]},
    include_package_data=True,
)
