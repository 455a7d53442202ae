// SPDX-License-Identifier: MIT
// The engine's options module (docs/options.md): a position funds one strategy of 1 to 8 European
// legs at a premium its market's quoter signed (EIP-712). A defined-risk strategy posts exactly its
// maximum loss and is never liquidated; an uncovered one posts a scenario margin and is closed whole
// below the maintenance scenario margin. After expiry anyone settles it at the price worst for the
// trader in an attested range. What either owes the source chain is queued, as a liquidation's is.
// It runs only by delegatecall from IsolatedMarginEngine: address(this) is the engine.
pragma solidity ^0.8.22;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {MarginMath} from "../libraries/MarginMath.sol";
import {OptionsMath} from "../libraries/OptionsMath.sol";
import {PriceAttestation} from "../interfaces/IPriceAttestations.sol";
import {EngineState} from "./EngineState.sol";

contract EngineOptions is EngineState, ReentrancyGuard {
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("IsolatedMarginEngine");
    bytes32 private constant VERSION_HASH = keccak256("1");
    bytes32 private constant QUOTE_TYPEHASH = keccak256(
        "OptionQuote(address trader,uint256 positionId,bytes32 market,uint64 expiry,bytes32 legsHash,int256 premium,uint64 deadline,bytes32 nonce)"
    );
    /// @dev The largest strike, size (1e18 USD per unit, 1e18 units) and |premium| (USD 1e18): a leg fits one slot.
    uint256 private constant MAX_OPTION_AMOUNT = 1e36;

    /// @notice The functions the engine routes here.
    function selectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](8);
        s[0] = this.openStrategy.selector;
        s[1] = this.settleExpired.selector;
        s[2] = this.liquidateStrategy.selector;
        s[3] = this.strategyOf.selector;
        s[4] = this.optionsConfig.selector;
        s[5] = this.maintenanceRate.selector;
        s[6] = this.quoteNonceUsed.selector;
        s[7] = this.quoteDomainSeparator.selector;
    }

    // ---------------------------------------------------------------- open

    /// @notice Opens a strategy on the caller's position `positionId` at the premium the market's
    /// quoter signed for exactly this trader, position, market, expiry and legs (EIP-712 OptionQuote,
    /// domain "IsolatedMarginEngine" v1 on this engine). The position must hold USD-valued collateral
    /// and no perpetual or other strategy; the premium is realized at once (a credit's reserved from
    /// the settlement pool). Its margin — collateral less fees and any loss realized before — must
    /// cover the strategy's maximum loss (defined risk) or its initial scenario margin (uncovered).
    function openStrategy(
        uint256 positionId,
        bytes32 market,
        uint64 expiry,
        OptionsMath.Leg[] calldata legs,
        int256 premium,
        uint64 deadline,
        bytes32 nonce,
        bytes calldata quoterSignature
    ) external nonReentrant {
        if (paused) revert EnginePaused();
        bytes32 key = _positionKeyOf(msg.sender, positionId);
        _checkOpen(key, market, expiry, legs, premium);
        bytes32 legsHash = keccak256(abi.encode(legs));
        _useQuote(market, _quoteHash(positionId, market, expiry, legsHash, premium, deadline, nonce), deadline, nonce, quoterSignature);
        _open(key, market, expiry, legs, premium, legsHash);
        emit PositionChanged(key, msg.sender, positionId, market);
    }

    /// @dev Everything about the position, market and strategy that does not need the quote.
    function _checkOpen(bytes32 key, bytes32 market, uint64 expiry, OptionsMath.Leg[] calldata legs, int256 premium) private view {
        if (!markets[market].enabled) revert MarketDisabled(market);
        OptionsConfig storage c = optionsConfigs[market];
        if (c.quoter == address(0)) revert OptionsDisabled(market);
        Position storage p = positions[key];
        if (p.srcChainId == 0 || collateral[key][collateralKeyOf(p.srcChainId, p.token)] == 0) revert NoCollateral();
        if (!collateralConfig[p.srcChainId][p.token].usdValued) revert CollateralNotTradable(p.srcChainId, p.token);
        // Profit (a credit, a payoff) can only be paid in a configured settlement token.
        if (settlementToken == address(0)) revert InvalidConfig();
        // Isolated margin: one exposure per collateral.
        if (p.size != 0) revert PerpOpen(key);
        _requireNoStrategy(key);
        uint256 latest = block.timestamp + c.maxExpiry;
        if (expiry <= block.timestamp || expiry > latest) revert InvalidExpiry(expiry, latest);
        if (legs.length == 0 || legs.length > OptionsMath.MAX_LEGS) revert InvalidLegCount(legs.length);
        for (uint256 i; i < legs.length; i++) {
            OptionsMath.Leg calldata leg = legs[i];
            if (leg.strike == 0 || leg.size == 0 || leg.strike > MAX_OPTION_AMOUNT || leg.size > MAX_OPTION_AMOUNT) revert InvalidLeg(i);
        }
        if (premium > int256(MAX_OPTION_AMOUNT) || premium < -int256(MAX_OPTION_AMOUNT)) revert InvalidPremium(premium);
    }

    /// @dev The quote is unexpired, its nonce unused (then used), and signed by the market's quoter.
    function _useQuote(bytes32 market, bytes32 structHash, uint64 deadline, bytes32 nonce, bytes calldata signature) private {
        if (block.timestamp > deadline) revert QuoteExpired(deadline);
        if (usedQuoteNonces[nonce]) revert QuoteNonceUsed(nonce);
        usedQuoteNonces[nonce] = true;
        (address signer,,) = ECDSA.tryRecover(MessageHashUtils.toTypedDataHash(_domainSeparator(), structHash), signature);
        if (signer != optionsConfigs[market].quoter) revert InvalidQuoteSignature(signer);
    }

    /// @dev The quote names its trader: the caller. A quote for anyone else does not recover to the quoter.
    function _quoteHash(
        uint256 positionId,
        bytes32 market,
        uint64 expiry,
        bytes32 legsHash,
        int256 premium,
        uint64 deadline,
        bytes32 nonce
    ) private view returns (bytes32) {
        return keccak256(abi.encode(QUOTE_TYPEHASH, msg.sender, positionId, market, expiry, legsHash, premium, deadline, nonce));
    }

    /// @dev The engine's EIP-712 domain. Computed on each call from address(this), which under
    /// delegatecall is the engine: a quote signed for this module's own address, or for another
    /// engine or chain, does not verify.
    function _domainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev Checks the margin, realizes the premium and records the strategy.
    function _open(bytes32 key, bytes32 market, uint64 expiry, OptionsMath.Leg[] calldata legs, int256 premium, bytes32 legsHash) private {
        OptionsMath.Leg[] memory l = legs;
        bool definedRisk = OptionsMath.isDefinedRisk(l);
        uint256 requirement = definedRisk ? OptionsMath.maxLoss(l, premium) : _initialScenarioMargin(l, premium, market, expiry);
        // A quote under which the trader cannot lose (a credit of all the strategy could ever pay, a
        // debit below what it always pays) is money out of the settlement pool for nothing: a quoter
        // key gone wrong. Defined risk: a maximum loss of 0. A strategy with covered calls and
        // uncovered puts (a put ratio spread) is not defined risk, yet it may never lose either.
        if (definedRisk ? requirement == 0 : _cannotLose(l, premium)) revert RisklessQuote(premium);
        _requireMargin(key, requirement);
        // The premium moves like realized PnL: a debit a loss, a credit a profit the pool sets aside now.
        Position storage p = positions[key];
        p.market = market;
        p.realizedPnl -= premium;
        _reserveProfit(key, -premium);
        Strategy storage s = strategies[key];
        (s.market, s.premium, s.expiry, s.definedRisk) = (market, int128(premium), expiry, definedRisk);
        for (uint256 i; i < l.length; i++) {
            s.legs.push(StoredLeg(l[i].isCall, l[i].isLong, uint120(l[i].strike), uint120(l[i].size)));
        }
        _addOptionsOpenInterest(market, l);
        emit StrategyOpened(key, market, expiry, premium, legsHash, definedRisk, requirement);
    }

    /// @dev Whether the strategy pays at least its premium at every expiry price. Decidable when its calls
    /// are covered (net call size ≥ 0): its payoff then never falls above the highest strike and is finite
    /// at 0, so it is least at a breakpoint, {0} ∪ strikes, as for OptionsMath.maxLoss — whether or not
    /// its puts are covered (long the 3,000 put and short 1.1 of the 1,000 put pays ≥ 0 everywhere).
    /// With uncovered calls it loses without bound as the price rises.
    function _cannotLose(OptionsMath.Leg[] memory legs, int256 premium) private pure returns (bool) {
        int256 calls;
        for (uint256 i; i < legs.length; i++) {
            if (legs[i].isCall) calls += legs[i].isLong ? _toInt(legs[i].size) : -_toInt(legs[i].size);
        }
        if (calls < 0 || premium > OptionsMath.payoff(legs, 0)) return false;
        for (uint256 i; i < legs.length; i++) {
            if (premium > OptionsMath.payoff(legs, legs[i].strike)) return false;
        }
        return true;
    }

    /// @dev The scenario margin of an uncovered strategy at this chain's oracle price, with the initial shock.
    function _initialScenarioMargin(OptionsMath.Leg[] memory legs, int256 premium, bytes32 market, uint64 expiry) private view returns (uint256) {
        OptionsConfig storage c = optionsConfigs[market];
        return _scenarioMargin(legs, premium, c, _oraclePrice(market), expiry - block.timestamp, c.scenarioBps);
    }

    /// @dev What backs a new strategy — the collateral less fees and any loss realized before — covers
    /// `requirement`. Realized profit is the settlement pool's to pay at settlement: it never backs a new exposure.
    function _requireMargin(bytes32 key, uint256 requirement) private view {
        Position storage p = positions[key];
        int256 realized = p.realizedPnl;
        int256 margin = _toInt(_collateralUsd(key, p)) - _toInt(p.fees) + (realized < 0 ? realized : int256(0));
        if (margin < _toInt(requirement)) revert InsufficientMargin(margin - _toInt(requirement), requirement);
    }

    // ---------------------------------------------------------------- settle, liquidate

    /// @notice Settles an expired strategy (anyone may): with an attestation taken at or after expiry,
    /// within the market's settleWindow of it (later: only the vol updater, the operator's keeper),
    /// that passes a liquidation's checks and whose range is no wider than agreeing chains can give,
    /// at the price in its range worst for the trader. The payoff
    /// is realized and the position settled whole: the RELEASE of what the trader keeps and the SEIZE
    /// of the loss are queued (sendQueued), profit beyond the collateral is paid here by the pool, and
    /// a loss beyond it (an uncovered strategy's) is a deficit covered as a liquidation's.
    function settleExpired(bytes32 positionKey, PriceAttestation calldata a, bytes[] calldata signatures) external nonReentrant {
        Strategy storage s = strategies[positionKey];
        uint64 expiry = s.expiry;
        if (expiry == 0) revert NoStrategy(positionKey);
        if (block.timestamp < expiry) revert NotExpired(expiry);
        if (a.market != s.market) revert WrongMarket(s.market, a.market);
        if (a.timestamp < expiry) revert AttestationBeforeExpiry(a.timestamp, expiry);
        uint256 windowEnd = uint256(expiry) + optionsConfigs[s.market].settleWindow;
        if (a.timestamp > windowEnd && msg.sender != volUpdater) revert AttestationAfterSettleWindow(a.timestamp, windowEnd);
        _checkAttestation(a, markets[a.market], signatures);
        _requireAgreeingRange(a, markets[a.market].maxDeviationBps);
        OptionsMath.Leg[] memory legs = _legsOf(s);
        uint256 price = OptionsMath.worstPrice(legs, a.low, a.high);
        int256 payoff = OptionsMath.payoff(legs, price);
        _close(positionKey, payoff, price, 0);
        emit StrategySettled(positionKey, price, payoff);
        emit PositionChanged(positionKey, traderOf[positionKey], positionIdOf[positionKey], a.market);
    }

    /// @dev A settlement takes the range's price worst for the trader, and the on-chain second check
    /// (_checkAttestation) holds only the median to this chain's oracle: so the range's ends must be no
    /// further from its median than agreeing chains can be. A reconciliation keeps the sources within
    /// d = maxDeviationBps of the median m it filters on, and reports the median M of those: each end is
    /// within m·(1 ± d) and M too, so low ≥ M·(1 − 2d) and high ≤ M / (1 − 2d) hold for every range it
    /// reports. Without the bound an attester quorum gone rogue could settle any strategy at any price
    /// (an iron condor at its maximum loss with every chain at its sweet spot). A liquidation needs none:
    /// it is judged where the strategy stands best, so a wider range only spares it.
    function _requireAgreeingRange(PriceAttestation calldata a, uint256 maxDeviationBps) private pure {
        uint256 slack = 2 * maxDeviationBps;
        // A deviation of 50 % or more bounds nothing.
        if (slack >= BPS) return;
        if (a.low * BPS < a.median * (BPS - slack) || a.high * (BPS - slack) > a.median * BPS) {
            revert AttestedRangeTooWide(a.low, a.median, a.high);
        }
    }

    /// @notice Liquidates an uncovered strategy before expiry whose margin — collateral + realized PnL
    /// + premium − fees — is below its maintenance scenario margin around the price of the attested
    /// range where the strategy is worth MOST to its trader (_liquidationPrice). It is closed whole at
    /// its conservative value there, with the market's penalty on the uncovered notional (the keeper's
    /// share to the caller), and settled as settleExpired settles. A defined-risk strategy is never liquidated.
    function liquidateStrategy(bytes32 positionKey, PriceAttestation calldata a, bytes[] calldata signatures) external nonReentrant {
        Strategy storage s = strategies[positionKey];
        uint64 expiry = s.expiry;
        if (expiry == 0) revert NoStrategy(positionKey);
        if (s.definedRisk) revert DefinedRiskStrategy(positionKey);
        if (block.timestamp >= expiry) revert StrategyExpired(expiry);
        if (a.market != s.market) revert WrongMarket(s.market, a.market);
        bytes32 digest = _checkAttestation(a, markets[a.market], signatures);
        _liquidateAt(positionKey, _legsOf(s), s.premium, a, expiry, digest);
        emit PositionChanged(positionKey, traderOf[positionKey], positionIdOf[positionKey], a.market);
    }

    function _liquidateAt(
        bytes32 key,
        OptionsMath.Leg[] memory legs,
        int256 premium,
        PriceAttestation calldata a,
        uint64 expiry,
        bytes32 digest
    ) private {
        (uint256 price, int256 value) = _liquidationPrice(legs, a, expiry);
        _requireStrategyBreach(key, legs, premium, price, expiry);
        uint256 penalty = _close(key, value, price, _penaltyOf(legs, price, a.market));
        emit StrategyLiquidated(key, a.market, price, digest, value, penalty);
    }

    /// @dev The price of the attested range at which the strategy is worth the most to its trader, and
    /// its conservative value there: the argmax of value over low, high and the strikes strictly between
    /// (value is piecewise linear in the price with kinks at the strikes; the lowest price on ties).
    /// A strategy is judged and closed there, as a perpetual is at the end of the range best for it (a
    /// long at high): every agreeing chain's price lies in the range, so none is liquidated unless it
    /// breaches where it stands best, and a range made wider — which the attesters' policy signs, since it
    /// refuses only a range narrower than their own — can only spare a strategy, never condemn one.
    /// Judged at the range's end worst for it instead, a keeper could liquidate a strategy that is healthy
    /// at every price any chain reads, by asking for a range ~maxDeviationBps wider on its adverse side.
    function _liquidationPrice(OptionsMath.Leg[] memory legs, PriceAttestation calldata a, uint64 expiry)
        private
        view
        returns (uint256 price, int256 value)
    {
        uint256 sigma = optionsConfigs[a.market].sigma;
        uint256 t = expiry - block.timestamp;
        (price, value) = (a.low, OptionsMath.value(legs, a.low, sigma, t));
        for (uint256 i; i < legs.length; i++) {
            uint256 k = legs[i].strike;
            if (k <= a.low || k >= a.high) continue;
            int256 atStrike = OptionsMath.value(legs, k, sigma, t);
            if (atStrike > value || (atStrike == value && k < price)) (price, value) = (k, atStrike);
        }
        int256 atHigh = OptionsMath.value(legs, a.high, sigma, t);
        if (atHigh > value) (price, value) = (a.high, atHigh);
    }

    /// @dev margin = collateral + realized PnL + premium − fees (the premium's own effect is inside the
    /// scenario loss, which is measured against it); breached when below the maintenance scenario margin.
    function _requireStrategyBreach(bytes32 key, OptionsMath.Leg[] memory legs, int256 premium, uint256 price, uint64 expiry) private view {
        Position storage p = positions[key];
        OptionsConfig storage c = optionsConfigs[p.market];
        int256 margin = _toInt(_collateralUsd(key, p)) + p.realizedPnl + premium - _toInt(p.fees);
        uint256 maintenance = _scenarioMargin(legs, premium, c, price, expiry - block.timestamp, c.maintenanceScenarioBps);
        if (margin >= _toInt(maintenance)) revert NotLiquidatable(margin, maintenance);
    }

    /// @dev ⌈π · (uncovered calls + uncovered puts) · P⌉: a perpetual's penalty on the size nothing covers.
    function _penaltyOf(OptionsMath.Leg[] memory legs, uint256 price, bytes32 market) private view returns (uint256) {
        int256 calls;
        int256 puts;
        for (uint256 i; i < legs.length; i++) {
            int256 size = _toInt(legs[i].size);
            if (!legs[i].isLong) size = -size;
            if (legs[i].isCall) calls += size;
            else puts += size;
        }
        uint256 uncovered = (calls < 0 ? uint256(-calls) : 0) + (puts < 0 ? uint256(-puts) : 0);
        return MarginMath.mulDiv(uncovered * price, markets[market].penaltyBps, BPS * WAD, MarginMath.Rounding.Up);
    }

    /// @dev Counts the legs' size in the market's option open interest, within its cap.
    function _addOptionsOpenInterest(bytes32 market, OptionsMath.Leg[] memory legs) private {
        uint256 size;
        for (uint256 i; i < legs.length; i++) size += legs[i].size;
        uint256 openInterest = optionsOpenInterest[market] + size;
        uint256 cap = optionsConfigs[market].maxOpenInterest;
        if (openInterest > cap) revert OptionsOpenInterestCap(market, openInterest, cap);
        optionsOpenInterest[market] = openInterest;
    }

    /// @dev Realizes `realized`, charges `penalty` (at most the equity left; the keeper's share to the
    /// caller) and settles the position whole as a liquidation's _closeAll does; returns the penalty.
    /// The payoff is paid in this transaction (_settleProfit), so it is not reserved first.
    function _close(bytes32 key, int256 realized, uint256 price, uint256 penalty) private returns (uint256) {
        Strategy storage s = strategies[key];
        uint256 size;
        for (uint256 i; i < s.legs.length; i++) size += s.legs[i].size;
        optionsOpenInterest[s.market] -= size;
        delete strategies[key];
        Position storage p = positions[key];
        p.realizedPnl += realized;
        int256 eq = _toInt(_collateralUsd(key, p)) + p.realizedPnl - _toInt(p.fees);
        if (eq <= 0) penalty = 0;
        else if (_toInt(penalty) > eq) penalty = uint256(eq);
        if (penalty > 0) _rewardKeeper(key, p, penalty);
        Position memory closing = p;
        _closeAll(key, closing, eq > 0 ? uint256(eq) - penalty : 0, price);
        if (eq < 0) _coverDeficit(key, closing.market, uint256(-eq));
        return penalty;
    }

    // ---------------------------------------------------------------- views

    /// @notice The strategy a position holds (expiry 0: none) and its requirement now: the maximum
    /// loss when defined-risk, else the maintenance scenario margin at this chain's oracle price.
    function strategyOf(bytes32 positionKey)
        external
        view
        returns (bytes32 market, uint64 expiry, int256 premium, OptionsMath.Leg[] memory legs, bool definedRisk, uint256 requirement)
    {
        Strategy storage s = strategies[positionKey];
        expiry = s.expiry;
        if (expiry == 0) return (market, expiry, premium, legs, definedRisk, requirement);
        (market, premium, legs, definedRisk) = (s.market, s.premium, _legsOf(s), s.definedRisk);
        if (definedRisk) {
            requirement = OptionsMath.maxLoss(legs, premium);
        } else {
            OptionsConfig storage c = optionsConfigs[market];
            uint256 t = expiry > block.timestamp ? expiry - block.timestamp : 0;
            requirement = _scenarioMargin(legs, premium, c, _oraclePrice(market), t, c.maintenanceScenarioBps);
        }
    }

    function optionsConfig(bytes32 market) external view returns (OptionsConfig memory) {
        return optionsConfigs[market];
    }

    /// @notice The maintenance rate liquidations apply to the market's perpetuals now (mmr scaled by σ).
    function maintenanceRate(bytes32 market) external view returns (uint256) {
        return _maintenanceRate(market);
    }

    function quoteNonceUsed(bytes32 nonce) external view returns (bool) {
        return usedQuoteNonces[nonce];
    }

    /// @notice The EIP-712 domain separator quotes are signed for (this engine on this chain).
    function quoteDomainSeparator() external view returns (bytes32) {
        return _domainSeparator();
    }

    // ---------------------------------------------------------------- internals

    function _legsOf(Strategy storage s) private view returns (OptionsMath.Leg[] memory legs) {
        uint256 n = s.legs.length;
        legs = new OptionsMath.Leg[](n);
        for (uint256 i; i < n; i++) {
            StoredLeg storage leg = s.legs[i];
            legs[i] = OptionsMath.Leg(leg.isCall, leg.isLong, leg.strike, leg.size);
        }
    }

    function _scenarioMargin(
        OptionsMath.Leg[] memory legs,
        int256 premium,
        OptionsConfig storage c,
        uint256 price,
        uint256 t,
        uint256 shockBps
    ) private view returns (uint256) {
        return OptionsMath.scenarioLoss(legs, premium, price, c.sigma, t, OptionsMath.ScenarioParams(shockBps, c.volShockBps, c.scenarioSteps));
    }
}
