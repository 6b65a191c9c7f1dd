// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "../interfaces/IJobMarket.sol";

/// @title JobSlot
/// @notice The one storage word of a job:
///
///   bits 255..64  top 192 bits of keccak256(abi.encode(job))  — the commitment
///   bits  63..56  unused (zero)
///   bits  55..48  the mode's hook flags ({VerifierHooks}), copied at creation so that a
///                 transition knows without reading the mode whether to call its module
///                 (a mode's flags never change: they are read once, at registration)
///   bits  47..8   deadline of the current status (uint40)
///   bits   7..0   status
///
/// A 192-bit commitment keeps collision search at 2^96 work while leaving room for the
/// status and deadline, which views and off-chain reconciliation read without the tuple.
///
/// Hashing works on raw bytes: the ABI encoding of the static {IJobMarket-Job} tuple is its
/// 25 words in order (the nested terms inline), identical in calldata and in abi.encode. A
/// caller's tuple is hashed straight from calldata without decoding; a non-canonical encoding
/// (dirty high bits) simply fails to match the commitment, which was made from clean values.
library JobSlot {
    uint256 internal constant COMMITMENT_MASK = ~uint256(type(uint64).max);
    /// @dev The hook flags in place; a transition carries them over with `slot & HOOKS`.
    uint256 internal constant HOOKS = uint256(0xff) << 48;
    /// @dev Size of the encoded Job tuple and byte offsets of its fields.
    uint256 private constant _JOB_SIZE = 800; // 25 words
    uint256 private constant _INPUT_CODEC = 64; // word 2
    uint256 private constant _INPUT_DIGEST = 96; // word 3
    uint256 private constant _TERMS = 128; // words 4..19
    uint256 private constant _TERMS_SIZE = 512;
    uint256 private constant _WORKER = 640; // word 20
    uint256 private constant _OUTPUT_CODEC = 672; // word 21
    uint256 private constant _OUTPUT_DIGEST = 704; // word 22
    uint256 private constant _OUTPUT_HASH = 736; // word 23
    uint256 private constant _USAGE = 768; // word 24

    /// @notice Commitment of a new job: requester, model, input and terms; the rest zero.
    /// `terms` is a memory struct, i.e. its sixteen fields as sixteen clean words.
    function commitNew(
        address requester,
        uint32 modelId,
        uint16 inputCodec,
        bytes32 inputDigest,
        IJobMarket.JobTerms memory terms
    ) internal pure returns (uint256) {
        bytes32 h;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, requester)
            mstore(add(ptr, 32), modelId)
            mstore(add(ptr, _INPUT_CODEC), inputCodec)
            mstore(add(ptr, _INPUT_DIGEST), inputDigest)
            mcopy(add(ptr, _TERMS), terms, _TERMS_SIZE)
            mstore(add(ptr, _WORKER), 0)
            mstore(add(ptr, _OUTPUT_CODEC), 0)
            mstore(add(ptr, _OUTPUT_DIGEST), 0)
            mstore(add(ptr, _OUTPUT_HASH), 0)
            mstore(add(ptr, _USAGE), 0)
            h := keccak256(ptr, _JOB_SIZE)
        }
        return uint256(h) & COMMITMENT_MASK;
    }

    /// @notice Commitment of a job tuple passed as calldata, unchanged.
    function commitCalldata(IJobMarket.Job calldata job) internal pure returns (uint256) {
        bytes32 h;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, job, _JOB_SIZE)
            h := keccak256(ptr, _JOB_SIZE)
        }
        return uint256(h) & COMMITMENT_MASK;
    }

    /// @notice Commitment of `job` once claimed by `worker`.
    function commitClaimed(IJobMarket.Job calldata job, address worker)
        internal
        pure
        returns (uint256)
    {
        bytes32 h;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, job, _JOB_SIZE)
            mstore(add(ptr, _WORKER), worker)
            h := keccak256(ptr, _JOB_SIZE)
        }
        return uint256(h) & COMMITMENT_MASK;
    }

    /// @notice Commitment of `job` once `worker` submitted its result (claiming it, if the
    /// job was Open). `usage` is read from the submitted {IJobMarket-Result}.
    function commitSubmitted(
        IJobMarket.Job calldata job,
        address worker,
        uint16 outputCodec,
        bytes32 outputDigest,
        bytes32 outputHash,
        bytes32 usage
    ) internal pure returns (uint256) {
        bytes32 h;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, job, _JOB_SIZE)
            mstore(add(ptr, _WORKER), worker)
            mstore(add(ptr, _OUTPUT_CODEC), outputCodec)
            mstore(add(ptr, _OUTPUT_DIGEST), outputDigest)
            mstore(add(ptr, _OUTPUT_HASH), outputHash)
            mstore(add(ptr, _USAGE), usage)
            h := keccak256(ptr, _JOB_SIZE)
        }
        return uint256(h) & COMMITMENT_MASK;
    }

    function pack(uint256 commitment, uint40 deadline, IJobMarket.JobStatus status)
        internal
        pure
        returns (uint256)
    {
        return commitment | (uint256(deadline) << 8) | uint256(uint8(status));
    }

    /// @notice The hook flags carried by `slot`.
    function hooksOf(uint256 slot) internal pure returns (uint8) {
        return uint8(slot >> 48);
    }

    function commitmentOf(uint256 slot) internal pure returns (uint256) {
        return slot & COMMITMENT_MASK;
    }

    function statusOf(uint256 slot) internal pure returns (IJobMarket.JobStatus) {
        return IJobMarket.JobStatus(uint8(slot));
    }

    function deadlineOf(uint256 slot) internal pure returns (uint40) {
        return uint40(slot >> 8);
    }
}
