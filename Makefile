# Developer shortcuts. The crate builds with cargo alone; this file only wraps
# the Debian package build (docs/packaging.md).

.PHONY: deb deb-deps deb-clean

# Build target/debian/ifupdown-ovs_VERSION_ARCH.deb, run lintian, print its path.
deb:
	scripts/deb

# What `make deb` needs (Debian/Ubuntu, as root).
deb-deps:
	apt-get install -y --no-install-recommends dpkg-dev debhelper lintian

# Drop the package build's cargo tree and its results.
deb-clean:
	rm -rf target/deb-build target/debian
