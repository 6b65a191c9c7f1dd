// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ChainProbe
/// @notice Test helper for the Python chain layer: counts calls per sender and reverts
/// with a custom error on demand, so decoding and nonce handling can be exercised.
contract ChainProbe {
    /// @notice Thrown by `failWith` carrying the caller's values back.
    error ChainProbeRejected(address caller, uint256 code);

    /// @notice Emitted on every successful `poke`.
    event Poked(address indexed caller, uint256 count);

    mapping(address caller => uint256) public pokes;

    /// @notice Counts one call from msg.sender.
    function poke() external {
        uint256 count = ++pokes[msg.sender];
        emit Poked(msg.sender, count);
    }

    /// @notice Always reverts with `ChainProbeRejected(msg.sender, code)`.
    function failWith(uint256 code) external view {
        revert ChainProbeRejected(msg.sender, code);
    }

    /// @notice Always reverts with a string reason.
    function failWithReason() external pure {
        revert("probe: plain reason");
    }
}
