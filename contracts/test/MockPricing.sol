// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IPricing} from "../interfaces/IPricing.sol";

/// @title MockPricing
/// @notice Test pricing mode, linear in usage: the model's flat price is the price of one
/// unit, `pricingData` is the most units the requester will pay for, and a job charges
/// `units used × unit price` (the market caps it at the escrowed maximum).
contract MockPricing is IPricing {
    /// @inheritdoc IPricing
    function quote(address, uint32, IModelRegistry.Terms calldata model, bytes32 pricingData)
        external
        pure
        returns (uint96 maxPrice, bytes32 pricingTerms)
    {
        maxPrice = uint96(uint256(model.price) * uint256(pricingData));
        pricingTerms = bytes32(uint256(model.price));
    }

    /// @inheritdoc IPricing
    function charge(bytes32 pricingTerms, bytes32 usage) external pure returns (uint96) {
        uint256 amount = uint256(pricingTerms) * uint256(usage);
        return amount > type(uint96).max ? type(uint96).max : uint96(amount);
    }
}
