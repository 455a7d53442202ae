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
        s = new bytes4[](2);
        s[0] = this.liquidate.selector;
        s[1] = this.liquidateMany.selector;
    }

    /// @notice Liquidates a position that breaches its maintenance margin at the conservative end of
    /// an attested price range (a long at `high`, a short at `low`). The attestation must be fresh,
    /// for this market, signed by the attester quorum (signatures sorted by signer) and near this
    /// chain's own oracle. The whole collateral is SEIZEd: the SEIZE is queued for anyone to send.
    function liquidate(bytes32 positionKey, PriceAttestation calldata a, bytes[] calldata signatures) external nonReentrant {
        Position storage p = positions[positionKey];
        if (p.size == 0) revert NothingToLiquidate();
        if (a.market != p.market) revert WrongMarket(p.market, a.market);
        bytes32 digest = _checkAttestation(a, markets[p.market], signatures);
        uint256 price = p.side == MarginMath.Side.Long ? a.high : a.low;
        _requireBreach(positionKey, markets[p.market].mmr, price);
        _liquidate(positionKey, a.market, price, digest);
    }

    /// @notice Liquidates, with one attestation of the market's range, every position of `keys` that
    /// breaches at its conservative end; the others (healthy, flat, closed meanwhile, another market)
    /// are skipped, so that a batch never fails for one position a trader rescued. Returns how many.
    function liquidateMany(bytes32[] calldata keys, PriceAttestation calldata a, bytes[] calldata signatures)
        external
        nonReentrant
        returns (uint256 count)
    {
        Market storage m = markets[a.market];
        bytes32 digest = _checkAttestation(a, m, signatures);
        for (uint256 i; i < keys.length; i++) {
            Position storage p = positions[keys[i]];
            if (p.size == 0 || p.market != a.market) continue;
            uint256 price = p.side == MarginMath.Side.Long ? a.high : a.low;
            MarginMath.Account memory acct = _account(keys[i]);
            if (MarginMath.equity(acct, price) >= _toInt(MarginMath.maintenanceMargin(acct.position, m.mmr, price))) continue;
            _liquidate(keys[i], a.market, price, digest);
            count++;
        }
    }

    function _liquidate(bytes32 key, bytes32 market, uint256 price, bytes32 digest) private {
        uint256 seized = _seizeAll(key, price);
        emit PositionLiquidated(key, market, price, digest, seized);
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
        _removeOpenInterest(p.market, p.side, p.size);
        delete positions[key];
        if (seized > 0) _queue(s);
        emit PositionChanged(key, s.trader, s.positionId, p.market);
    }

    /// @dev The attester quorum, freshness and form are PriceAttestations' checks; the deviation
    /// from this chain's own oracle is the engine's second check on chain.
    function _checkAttestation(PriceAttestation calldata a, Market storage m, bytes[] calldata signatures)
        private
        view
        returns (bytes32 digest)
    {
        digest = attestations.verify(a, signatures, m.maxAttestationAge, m.minAttestedChains);
        uint256 own = _oraclePrice(a.market);
        uint256 gap = own > a.median ? own - a.median : a.median - own;
        if (gap * BPS > a.median * m.maxDeviationBps) revert OracleDeviation(own, a.median);
    }
}
