// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Cid
/// @notice Compact storage of IPFS CIDs: a CIDv1 whose multihash is sha2-256 is fully
/// described by its codec and its 32-byte digest, so contracts store those and rebuild the
/// bytes on demand. Layout: 0x01 ‖ varint(codec) ‖ 0x12 ‖ 0x20 ‖ digest.
/// Caveat: CIDv0 and other hash functions are refused; codecs must fit two varint bytes
/// (below 0x4000), which covers raw, dag-pb, dag-cbor and dag-json.
library Cid {
    /// @notice Thrown when `cid` is not a CIDv1 with a sha2-256 multihash.
    error CidUnsupported(bytes cid);

    /// @notice Split a CIDv1 sha2-256 into its codec and digest.
    function parse(bytes calldata cid) internal pure returns (uint16 codec, bytes32 digest) {
        uint256 length = cid.length;
        if (length == 36 && cid[0] == 0x01 && uint8(cid[1]) < 0x80) {
            codec = uint8(cid[1]);
        } else if (length == 37 && cid[0] == 0x01 && uint8(cid[1]) >= 0x80 && uint8(cid[2]) < 0x80) {
            codec = uint16(uint8(cid[1]) & 0x7f) | (uint16(uint8(cid[2])) << 7);
        } else {
            revert CidUnsupported(cid);
        }
        if (cid[length - 34] != 0x12 || cid[length - 33] != 0x20) revert CidUnsupported(cid);
        digest = bytes32(cid[length - 32:]);
    }

    /// @notice Rebuild the CIDv1 bytes from a codec and a sha2-256 digest.
    function build(uint16 codec, bytes32 digest) internal pure returns (bytes memory) {
        if (codec < 0x80) {
            return abi.encodePacked(uint8(0x01), uint8(codec), uint16(0x1220), digest);
        }
        return abi.encodePacked(
            uint8(0x01), uint8(codec & 0x7f) | 0x80, uint8(codec >> 7), uint16(0x1220), digest
        );
    }
}
