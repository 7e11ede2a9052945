#!/usr/bin/env bash
# Install the Terraform that plans and applies (the pipeline's plan and apply stages run this, so both use the
# same version, which `terraform apply` of a saved plan requires; a developer can too). The release zip comes
# from releases.hashicorp.com and must match HashiCorp's SHA256SUMS, whose signature must be made by HashiCorp's
# release key: the key file is downloaded, the fingerprint below decides.
# Usage: scripts/install-terraform.sh [DIR]   (default /usr/local/bin; TERRAFORM_VERSION=x.y.z overrides the pin)
set -euo pipefail
VERSION=${TERRAFORM_VERSION:-1.11.4}
DIR=${1:-/usr/local/bin}
# HashiCorp's release signing key, as published on https://www.hashicorp.com/trust/security
FINGERPRINT=C874011F0AB405110D02105534365D9472D7468F
case "$(uname -m)" in
  x86_64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "install-terraform.sh: no Terraform build for $(uname -m)" >&2; exit 1 ;;
esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ZIP=terraform_${VERSION}_linux_${ARCH}.zip
BASE=https://releases.hashicorp.com/terraform/$VERSION
fetch() { curl -fsSL --retry 5 --retry-connrefused -o "$TMP/$2" "$1"; }
fetch "$BASE/$ZIP" "$ZIP"
fetch "$BASE/terraform_${VERSION}_SHA256SUMS" SHA256SUMS
fetch "$BASE/terraform_${VERSION}_SHA256SUMS.sig" SHA256SUMS.sig
fetch https://www.hashicorp.com/.well-known/pgp-key.txt hashicorp.asc
export GNUPGHOME="$TMP/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --import "$TMP/hashicorp.asc" 2>/dev/null
# VALIDSIG's last field is the primary key's fingerprint: the signature must be HashiCorp's, not any imported key's.
SIGNER=$(gpg --batch --status-fd 1 --verify "$TMP/SHA256SUMS.sig" "$TMP/SHA256SUMS" 2>/dev/null | awk '$2 == "VALIDSIG" { print $NF }')
if [ "$SIGNER" != "$FINGERPRINT" ]; then
  echo "install-terraform.sh: SHA256SUMS is not signed by HashiCorp's key $FINGERPRINT (signer: ${SIGNER:-none})" >&2
  exit 1
fi
(cd "$TMP" && grep " $ZIP\$" SHA256SUMS | sha256sum -c --status -) || {
  echo "install-terraform.sh: $ZIP does not match HashiCorp's SHA256SUMS" >&2
  exit 1
}
mkdir -p "$DIR"
unzip -o -q "$TMP/$ZIP" terraform -d "$DIR"
"$DIR/terraform" version
