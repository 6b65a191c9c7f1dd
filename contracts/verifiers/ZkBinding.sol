// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ZkBinding
/// @notice Reads an EZKL proof's public instances as the two files of a job, so that a contract
/// can compare them with the job's input and output CIDs: the inputs (one byte each, at most
/// `maxInput`) are the input file; the outputs (one big-endian int256 each, a field element
/// above r/2 standing for itself minus r) are the output file. Both are raw single-block IPFS
/// files, so the sha256 returned here is their CIDv1 digest. inferchain.zk.binding does the
/// same in Python. Used by {ZkVerifier} and {ZkJobCheck}.
library ZkBinding {
    /// @dev The BN254 scalar field; the verifier refuses instances at or above it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice What keeps the instances from being files (with the index it is about).
    enum Fault {
        None,
        InstanceCount,
        InputOutOfRange,
        OutputOutOfField
    }

    /// @notice The sha256 of the input and output files the instances encode.
    /// @return fault `None`, or why they are not files.
    /// @return index The offending instance (`InstanceCount`: the count).
    function digests(uint256[] calldata instances, uint256 numInputs, uint256 numOutputs, uint256 maxInput)
        internal
        pure
        returns (Fault fault, uint256 index, bytes32 inputDigest, bytes32 outputDigest)
    {
        if (instances.length != numInputs + numOutputs) return (Fault.InstanceCount, instances.length, 0, 0);
        bytes memory inputFile = new bytes(numInputs);
        for (uint256 i; i < numInputs; ++i) {
            uint256 value = instances[i];
            if (value > maxInput || value > type(uint8).max) return (Fault.InputOutOfRange, i, 0, 0);
            inputFile[i] = bytes1(uint8(value));
        }
        int256[] memory outputFile = new int256[](numOutputs);
        for (uint256 j; j < numOutputs; ++j) {
            uint256 value = instances[numInputs + j];
            if (value >= FIELD_MODULUS) return (Fault.OutputOutOfField, numInputs + j, 0, 0);
            // Below r, so neither branch overflows: r - value < 2^254 and value <= r/2.
            outputFile[j] = value > FIELD_MODULUS / 2 ? -int256(FIELD_MODULUS - value) : int256(value);
        }
        return (Fault.None, 0, sha256(inputFile), sha256(abi.encodePacked(outputFile)));
    }
}
