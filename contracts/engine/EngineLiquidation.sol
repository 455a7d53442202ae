// SPDX-License-Identifier: MIT
// The engine's liquidation module: a position that breaches its maintenance margin at the
// conservative end of an attested price range is closed, and what it owes its source chain is
// queued (sent by whoever pays the fee: the keeper) so that no liquidation ever waits for the
// engine's own balance. It runs only by delegatecall from IsolatedMarginEngine.
pragma solidity ^0.8.22;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {MarginMessages} from "../libraries/MarginMessages.sol";
import {PriceAttestation} from "../interfaces/IPriceAttestations.sol";
import {EngineState} from "./EngineState.sol";

contract EngineLiquidation is EngineState, ReentrancyGuard {
    /// @notice The functions the engine routes here.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](1);
        s[0] = this.liquidate.selector;
    }

    /// @notice Liquidates a position that breaches its maintenance margin at the conservative end of
    /// an attested price range (a long at `high`, a short at `low`). The attestation must be fresh,
    /// for this market, signed by the attester quorum (signatures sorted by signer), near this chain's
    /// own oracle, and is usable once. The whole collateral is SEIZEd: the SEIZE is queued.
    function liquidate(bytes32 positionKey, PriceAttestation calldata a, bytes[] calldata signatures) external nonReentrant {
        Position storage p = positions[positionKey];
        if (p.size == 0) revert NothingToLiquidate();
        if (a.market != p.market) revert WrongMarket(p.market, a.market);
        bytes32 digest = _checkAttestation(a, markets[p.market], signatures);
        uint256 price = p.side == MarginMath.Side.Long ? a.high : a.low;
        _requireBreach(positionKey, markets[p.market].mmr, price);
        uint256 seized = _seizeAll(positionKey, price);
        emit PositionLiquidated(positionKey, a.market, price, digest, seized);
    }

    function _requireBreach(bytes32 key, uint256 mmr, uint256 price) private view {
        MarginMath.Account memory acct = _account(key);
        int256 eq = MarginMath.equity(acct, price);
        uint256 mm = MarginMath.maintenanceMargin(acct.position, mmr, price);
        if (eq >= _toInt(mm)) revert NotLiquidatable(eq, mm);
    }

    /// @dev A liquidated position loses its whole collateral to the insurance fund.
    function _seizeAll(bytes32 key, uint256 price) private returns (uint256 seized) {
        Position memory p = positions[key];
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        seized = collateral[key][ck];
        collateral[key][ck] = 0;
        Settlement memory s = _settlementOf(key, p, MarginMessages.SEIZE, seized, price);
        delete positions[key];
        if (seized > 0) _queue(s);
        emit PositionChanged(key, s.trader, s.positionId, p.market);
    }

    /// @dev The attester quorum, freshness, form and single use are PriceAttestations' checks; the
    /// deviation from this chain's own oracle is the engine's second check on chain.
    function _checkAttestation(PriceAttestation calldata a, Market storage m, bytes[] calldata signatures)
        private
        returns (bytes32 digest)
    {
        digest = attestations.consume(a, signatures, m.maxAttestationAge, m.minAttestedChains);
        uint256 own = _oraclePrice(a.market);
        uint256 gap = own > a.median ? own - a.median : a.median - own;
        if (gap * BPS > a.median * m.maxDeviationBps) revert OracleDeviation(own, a.median);
    }
}
