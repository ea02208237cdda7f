# Binary packages (CPack, Debian): `cpack -G DEB` in a tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr (scripts/build.sh release does) makes
#   imsakad_<version>_<arch>.deb     the daemon, its unit, bus policy, activation file,
#                                    sysusers entry, imsakactl, imsaka-register, imsaka-card
#   imsaka-lab_<version>_<arch>.deb  the lab tools: imsaka-vicc (virtual card) and imsaka-av
# with dependencies computed from the binaries (dpkg-shlibdeps) and the maintainer scripts
# of packaging/deb/. Install rules name their component (daemon is the default).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME imsakad)
set(CPACK_PACKAGE_VENDOR "imsakad developers")
set(CPACK_PACKAGE_CONTACT ${IMSAKA_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL daemon lab)
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME imsakad)
# dbus: the system bus it serves; pcscd: its only way to the card (socket activated);
# systemd: the unit, and systemd-sysusers for the user.
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS "dbus, pcscd, systemd")
set(CPACK_DEBIAN_DAEMON_PACKAGE_SUGGESTS "imsaka-lab")
# The first line is the synopsis; CPack indents the others and turns empty lines into " .".
set(CPACK_COMPONENT_DAEMON_DESCRIPTION
    "IMS registration security service (AKA, sec-agree, IPsec SAs)
imsakad makes IMS registration security (VoLTE, VoWiFi, RCS) a service of
the host. It runs the 3GPP AKA AUTHENTICATE command on the ISIM or USIM of
the UICC over PC/SC, answers the SIP 401 challenge with Digest AKA and the
sec-agree headers, installs the IPsec ESP security associations of TS 33.203
through XFRM netlink, and exposes registrations and their security
associations on the D-Bus system bus (org.imsaka), so that SIP applications
register without touching the card, CK or IK.

The package installs the service (not enabled), its D-Bus activation and
policy, the system user imsaka, imsakactl, imsaka-register and imsaka-card.")
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/imsakad/postinst
    ${PROJECT_SOURCE_DIR}/packaging/deb/imsakad/prerm
    ${PROJECT_SOURCE_DIR}/packaging/deb/imsakad/postrm)

set(CPACK_DEBIAN_LAB_PACKAGE_NAME imsaka-lab)
set(CPACK_DEBIAN_LAB_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_LAB_PACKAGE_RECOMMENDS "vsmartcard-vpcd")
set(CPACK_COMPONENT_LAB_DESCRIPTION
    "virtual ISIM/USIM card and AKA vectors for testing imsakad
imsaka-vicc is a virtual UICC with an ISIM and a USIM (Milenage, SQN checks,
PIN, logical channels) that connects to vsmartcard's vpcd reader driver of
pcscd. imsaka-av computes the matching network-side authentication vectors
and decodes AUTS. For laboratories and tests; not needed on a device.")

include(CPack)
