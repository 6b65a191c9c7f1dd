// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IHalo2Verifier} from "../interfaces/IZkVerifier.sol";
import {ZkBinding} from "./ZkBinding.sol";

/// @title ZkJobCheck
/// @notice One circuit's proof check outside any market: the proof's public inputs must be the
/// input file with sha256 `inputDigest`, its public outputs the output file with sha256
/// `outputDigest` ({ZkBinding}), and the proof must verify. Reverts with the error naming the
/// first failure. The market's mode is {ZkVerifier}, which reads the same binding from a job
/// tuple and never reverts on a bad proof; this contract serves off-market checks
/// (inferchain.zk.check_on_chain) and the gas benchmark.
contract ZkJobCheck {
    /// @notice Thrown when the proof carries `count` public instances instead of `expected`.
    error ZkJobCheckInstanceCount(uint256 count, uint256 expected);
    /// @notice Thrown when public input `index` is `value`, above the input file's byte range.
    error ZkJobCheckInputOutOfRange(uint256 index, uint256 value);
    /// @notice Thrown when public output `index` is not a field element.
    error ZkJobCheckOutputOutOfField(uint256 index);
    /// @notice Thrown when the proof's input file hashes to `digest`, not the job's `expected`.
    error ZkJobCheckInputMismatch(bytes32 digest, bytes32 expected);
    /// @notice Thrown when the proof's output file hashes to `digest`, not the submitted `expected`.
    error ZkJobCheckOutputMismatch(bytes32 digest, bytes32 expected);
    /// @notice Thrown when the verifier refuses the proof.
    error ZkJobCheckProofRejected();

    IHalo2Verifier public immutable verifier;
    uint256 public immutable numInputs;
    uint256 public immutable numOutputs;
    uint256 public immutable maxInput;

    /// @param verifier_ The circuit's EZKL verifier.
    /// @param numInputs_ Public inputs (bytes of the input file).
    /// @param numOutputs_ Public outputs (int256 words of the output file).
    /// @param maxInput_ Largest value of an input byte.
    constructor(IHalo2Verifier verifier_, uint256 numInputs_, uint256 numOutputs_, uint256 maxInput_) {
        verifier = verifier_;
        numInputs = numInputs_;
        numOutputs = numOutputs_;
        maxInput = maxInput_;
    }

    /// @notice Check that `proof` shows the model maps the input file with sha256 `inputDigest`
    /// to the output file with sha256 `outputDigest`.
    /// Requirements: `instances` are the inputs then the outputs, matching both digests; the
    /// proof verifies.
    /// @return True; every failure reverts with the error that names it.
    function check(bytes32 inputDigest, bytes32 outputDigest, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool)
    {
        (ZkBinding.Fault fault, uint256 index, bytes32 inputFile, bytes32 outputFile) =
            ZkBinding.digests(instances, numInputs, numOutputs, maxInput);
        if (fault == ZkBinding.Fault.InstanceCount) {
            revert ZkJobCheckInstanceCount(index, numInputs + numOutputs);
        }
        if (fault == ZkBinding.Fault.InputOutOfRange) revert ZkJobCheckInputOutOfRange(index, instances[index]);
        if (fault == ZkBinding.Fault.OutputOutOfField) revert ZkJobCheckOutputOutOfField(index);
        if (inputFile != inputDigest) revert ZkJobCheckInputMismatch(inputFile, inputDigest);
        if (outputFile != outputDigest) revert ZkJobCheckOutputMismatch(outputFile, outputDigest);
        try verifier.verifyProof(proof, instances) returns (bool ok) {
            if (!ok) revert ZkJobCheckProofRejected();
        } catch {
            revert ZkJobCheckProofRejected();
        }
        return true;
    }
}
